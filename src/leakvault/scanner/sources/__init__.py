"""Sources: what the scanner reads (files, stdin, the git index and history, notebooks, base64 values), as `Chunk`s."""
