"""Voting: ballots, votes and the secret-ballot split, tally, the keypad reader, keypad assignment."""
