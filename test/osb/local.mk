# test/osb/: (filled in by its owner)
