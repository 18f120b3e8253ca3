"""Chapter 03, *Binary labels*: the Binary set's sequential yes/no protocol, its agreement
statistics, a rater model and a simulation of the protocol, and the chapter's figures.
"""
