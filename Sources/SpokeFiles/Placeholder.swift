// Placeholder until the file spokes land.
