"""Tasks kept in the database until Redis has them (the transactional outbox of RQ's queue).

With ``REDIS_URL`` set, a task cannot join the database transaction of the write that causes it:
before this app, it was handed to Redis once the write committed, and if Redis did not answer
then, the write was kept and the task lost (a visitor never got the confirmation email they were
promised). Now the task is written to this app's table in the write's transaction and handed to
Redis after the commit; the worker hands over what is left (``leadbase.tasks``).
"""
