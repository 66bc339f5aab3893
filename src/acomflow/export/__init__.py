"""Files that ASTAR and other tools read: NanoMegas .blo block files, BMP sequences, TIFF stacks,
.npy."""
