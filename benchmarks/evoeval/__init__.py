"""EvoEval v0.1.0 (Xia et al. 2024): seven HumanEval-derived sets, graded through the EvalPlus grading path."""
