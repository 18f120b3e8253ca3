"""Chapter 06, *Evaluation*: the model against the experts (on the HQ panel), the released model
on real photographs, the closing table of claims, and the chapter's figures.
"""
