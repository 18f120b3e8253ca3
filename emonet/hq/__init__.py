"""Chapter 04, *Expert panel (HQ)*: the dense HQ panel (``hq.csv``), the simulated panel, the
paper's agreement suite, a simulation study with known truth, and the chapter's figures.
"""
