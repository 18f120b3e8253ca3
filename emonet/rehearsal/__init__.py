"""The dress rehearsal of the full profile: replicas of the paper-scale artefacts in their
published schemas, built offline from the project's stand-ins, laid out where the full profile's
calls fetch the real ones (``docs/rehearsal.md``)."""
