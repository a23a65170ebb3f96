"""The unit side of the link to the controller: the durable outbox and the publisher that empties it.

Shared by the door unit (:mod:`edge.main`) and the check-in bench's simulated doors
(:mod:`controller.bench.sim_door`), so the benchmark drives exactly the publish/ack/resend discipline a
door runs.
"""
