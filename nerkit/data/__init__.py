"""The data layer: file formats, tokenisation, char-span <-> token-tag alignment, statistics.

Everything here speaks end-exclusive character offsets (`nerkit.types.Span`); tokens and
tags are internal. Nothing here imports models or torch. Import the submodules directly
(`nerkit.data.formats`, `nerkit.data.tokenize`, `nerkit.data.alignment`, ...).
"""
