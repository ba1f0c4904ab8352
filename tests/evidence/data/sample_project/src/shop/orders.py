"""Order totals: the critical module of the sample project."""


def total(prices: list[int], discount: int = 0) -> int:
    """Sum ``prices`` less ``discount``, never below zero."""
    amount = sum(prices)
    if discount:
        amount -= discount
    if amount < 0:
        return 0
    return amount


def refund(amount: int) -> int:
    """Never called by the checks, so it stays uncovered."""
    return -amount
