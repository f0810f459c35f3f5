"""AccessFlow: the lifecycle of a team member's access to a business's social-media and ads accounts.

Layers (outer depends on inner, never the reverse):

* ``domain``    pure rules: roles, permissions, policies, state transitions, tokens. No AWS imports.
* ``store``     the only code that touches DynamoDB (PynamoDB models and repository functions).
* ``adapters``  small interfaces over e-mail (SES), events (EventBridge), workflow callbacks (Step
                Functions) and the clock.
* ``usecases``  one function per thing a user does; orchestrate domain + store + adapters.
* ``handlers``  thin Lambda entry points: parse, call one use case, shape the response.
"""
