"""Check-in at the factory gate, walk-ins and real attendance by gender."""
