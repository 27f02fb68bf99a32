"""Seeds for SelfCodeAlign: gather Python functions with docstrings and filter them as the paper.

One stage (`seeds`, in stage.py) over small concerns: corpus.py (local folders, `datasets`),
extract.py (tree-sitter split, docstrings, file imports), imports.py (import inference),
filters.py (the static filters), typecheck.py (Pyright batches), judge.py (the docstring judge);
dedup and decontamination are shared libraries (generation/dedup.py, benchmarks/contamination.py).
"""

from generation.seeds.stage import SeedsConfig, run_seeds, seeds_stage

__all__ = ["SeedsConfig", "run_seeds", "seeds_stage"]
