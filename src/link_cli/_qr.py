"""A URL as a QR code drawn with half blocks, for a terminal.

The CLI shows one under approval links, and the demo under the links it asks a person to
open; both draw the same code from here.
"""

from __future__ import annotations

__all__ = ["qr_lines"]


def qr_lines(url: str) -> list[str]:
    """A half-block QR code of ``url`` (error correction L, 1-module border)."""
    import qrcode  # lazy: only a terminal shows a code

    code = qrcode.QRCode(border=1, error_correction=qrcode.constants.ERROR_CORRECT_L)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))
    lines = []
    for top, bottom in zip(matrix[::2], matrix[1::2], strict=True):
        row = ""
        for upper, lower in zip(top, bottom, strict=True):
            row += {(True, True): "█", (True, False): "▀", (False, True): "▄"}.get(
                (upper, lower), " "
            )
        lines.append(row)
    return lines
