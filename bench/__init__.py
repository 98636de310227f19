"""The laboratory: benchmarks, look measures, the eager 2018 reference, the Medium reproduction."""
