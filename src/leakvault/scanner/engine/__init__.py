"""The engine: locate possible matches (Aho-Corasick prefilter or Hyperscan), run the rules'
regexes there, yield candidates."""
