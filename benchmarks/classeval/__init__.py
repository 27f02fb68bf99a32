"""ClassEval (Du et al. 2023): class-level code generation, graded by its unittest suites in the sandbox."""
