"""The book machinery: artifacts (tables, figures, atomic writes), parameters, the papermill
pipeline with its stage-granular stamps, the figure style shared by every chapter, and the glue
of a chapter's results into its page. Nothing here imports a chapter's package.
"""
