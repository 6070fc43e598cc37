"""Content leaving and entering Alliance in other platforms' formats.

Quiz banks (GIFT, Moodle XML, QTI 2.1) and SCORM packages are written from the catalog; banks in
GIFT and Moodle XML are read back into quiz YAML. Each format is its own module or package here;
`app/exchange/cli.py` gathers their commands under `alliance export` and `alliance import`.
"""
