"""The commands' shared code, now nst_tf/cli/common.py: `import cli_common` (with scripts/ on
sys.path, as the bench scripts do) gives that very module, its flags and state included."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's nst_tf

import nst_tf.cli.common  # noqa: E402

sys.modules[__name__] = nst_tf.cli.common
