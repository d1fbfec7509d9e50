"""toughtalk: practise and measure the hardest customer-service conversations."""

__version__ = "0.1.0"
