CREATE TABLE accounts (id serial primary key);
INSERT INTO accounts DEFAULT VALUES;
