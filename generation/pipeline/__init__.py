"""SelfCodeAlign's data pipeline: S->C, C->I (or S->I), I->R, the execution filter and selection.

Each stage is a runner stage (one file each) from input artifacts to an artifact of `records.jsonl`;
`sca pipeline STAGE` runs any of them on plain files.
"""
