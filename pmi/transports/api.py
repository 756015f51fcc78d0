blueprints: tuple = ()
