"""SCORM 1.2 and 2004 (4th edition) packages of a module, for learning platforms that cannot launch LTI tools.

`package.build` writes the zip; `grading` the data its offline grader needs; `cli` adds
`alliance export scorm`; `routes` the educators' download. See docs/scorm.md.
"""
