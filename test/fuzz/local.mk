# test/fuzz/: (filled in by its owner)
