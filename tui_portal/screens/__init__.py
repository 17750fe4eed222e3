"""The portal's screens and modals, one module each, with their styles beside them."""
