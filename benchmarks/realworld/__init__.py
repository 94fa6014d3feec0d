"""The independent accuracy corpus: real files from this machine with provider-format secrets
inserted by a seeded script; scored by benchmarks.accuracy.score --corpus realworld."""
