db.users.drop()
