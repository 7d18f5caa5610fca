"""The client journey: one module per step, each a botbuilder-dialogs component dialog."""
