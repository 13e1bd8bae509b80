"""The council-scale benchmark (`make bench`): a synthetic dataset of a chosen size,
then the main pages measured on it. See bench/__main__.py and README.md, "Benchmark"."""
