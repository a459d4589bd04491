"""Statements users care about (inference, audit, training policy): prove() and verify().

Imports: layers and below."""
