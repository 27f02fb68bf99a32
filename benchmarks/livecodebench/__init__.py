"""LiveCodeBench-style evaluation: dataset (dataset.py), prompts (prompts.py), grader (grade.py running
grader_program.py in the sandbox, comparing with compare.py), scores (results.py), the evaluate path and
stage (evaluate.py), the generate plug-in (codegen.py) and `sca evaluate --dataset livecodebench` (cli.py)."""
