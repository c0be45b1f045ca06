# test/integration/: (filled in by its owner)
