"""Chapter 07, *Results at a glance* (shown first in the book, run last): the paper's claims and
headline numbers next to this build's, assembled from the tables the other chapters wrote.
"""
