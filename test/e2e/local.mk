# test/e2e/: kubectl end-to-end harness (filled in by its owner)
