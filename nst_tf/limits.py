"""The engineering constants of the computation: sizes and limits that are not settings.

No imports: the settings, the image files and the objective read them from here.
"""

# Tiles of the exact tiled evaluation start on this grid: VGG19's deepest stride (block5, 4
# poolings), so every layer's 2x2 poolings pair the same pixels in a tile as in the picture.
TILE_GRID_PX = 16

# The original's working tile (its max_dim): a global-statistics picture is optimised as if it
# were made of tiles of this longer side (TextureTransfer.gradient_scale).
ORIGINAL_TILE_PX = 512

# Going up a level of a full-resolution run, the upsampled picture is corrected this many times
# so that downscaling it gives back the level below (back-projection): plain bilinear
# upsampling blurs the texture's pixel-level grain: on peebles_under_water the first level's
# picture (look 0.303 at 1024x576), carried up two levels to 3840x2160 and downscaled back with
# no step made, scored 0.484; back-projected, 0.313 after 3 rounds and 0.292 after 10 (bilinear
# kernel). Ten rounds take about 3 s from 2048x1152 to 3840x2160 on the 2-core box.
UPSAMPLE_ROUNDS = 10
# ... with this kernel. Back-projection sharpens, and a bilinear kernel's sharpness depends on
# where an output pixel falls between input pixels: going from 2048 to 3840 px (15/8) the mean
# step between neighbouring pixels then varied by 38% with a 15 px period (a faint grid; 2% before
# back-projection, 1% in the content). Lanczos-5 is nearly phase-independent: 8%, same look.
UPSAMPLE_METHOD = "lanczos5"

# The sliced Wasserstein loss over tiles holds the picture's projection maps and the texture's
# sorted projections, each 112 floats a pixel at block1-3_conv1 (0.45 KB: 9 GB at 20 MP). The
# texture's are read one direction at a time, so past this size (a texture of about 2.4 MP)
# they go to a temporary file and only the picture's maps stay in memory.
SORTED_PROJECTIONS_IN_MEMORY_BYTES = 1 << 30
# ... and sorts the picture's projections a direction at a time in this many threads at most
# (fewer on fewer cores): each holds about 30 bytes a pixel while it sorts (0.6 GB at 20 MP).
SORTING_THREADS = 4

# Memory blocks from this size up are mapped on their own and given back when freed, not carved
# from the heap (process_memory.py): under it Python's objects and small tensors; over it every
# layer of a tile (a 64-channel float32 layer is 1 MiB at 64x64 px).
LARGE_BLOCK_BYTES = 1 << 20

# A VGG19 tile smaller than this has almost no spatial extent left after block5's four pools.
MIN_TILE_PX = 32

# Images whose header claims more are refused before decoding: 250 MP is 12x a 20 MP camera
# photo, and already 3 GB as float32 RGB; a header beyond it is a damaged file or a
# decompression bomb (a few KB that decode to gigabytes).
MAX_IMAGE_MEGAPIXELS = 250
# ... and so are headers claiming more than this many pixels per byte of the file once the
# claim passes BOMB_FLOOR_MEGAPIXELS: a 1.6 KB JPEG claiming 12000x12000 decoded for 25 s into
# 4.3 GB of gray. A camera photo holds 3-10 pixels a byte; the flattest honest files of these
# formats (a white 1-bit PNG, deflate's 1032:1 at most; a flat JPEG, about 250) about 8000.
# Only formats whose compression is bounded so: a flat lossless WebP (22,700 pixels a byte) or
# a blank page in TIFF Group 4 (11,600) is honest, and has only the cap above.
MAX_PIXELS_PER_BYTE = 10_000
BOUNDED_COMPRESSION_FORMATS = ("JPEG", "PNG", "GIF")
BOMB_FLOOR_MEGAPIXELS = 4
