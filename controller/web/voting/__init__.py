"""Views of the voting area: ballots, results, projector, minutes, keypads."""
