"""One widget per flow step; each renders the flow it is given and calls the controller."""
