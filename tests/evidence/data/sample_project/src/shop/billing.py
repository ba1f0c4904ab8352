"""Invoices."""


def invoice_size(lines: int) -> str:
    """Classify an invoice by its number of lines."""
    if lines > 10:
        return "big"
    return "small"
