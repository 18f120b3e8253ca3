"""Chapter 06, *Model vs experts*: the model joins the HQ expert panel as one more annotator."""
