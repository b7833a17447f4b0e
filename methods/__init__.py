"""Method implementations. Each registers through the `inpaintbench.methods` entry-point group."""
