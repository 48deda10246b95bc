//! `db.orm-destructive`: framework commands that drop or reset a database.
//!
//! Flags `prisma migrate reset`, `prisma db push --force-reset`/`--accept-data-loss`,
//! `rails`/`rake db:drop|db:reset|db:purge|db:schema:load|db:migrate:reset`, Django `manage.py
//! flush|reset_db`, `artisan migrate:fresh|migrate:reset|db:wipe`, `mix ecto.drop|ecto.reset`,
//! `sequelize db:drop`, `typeorm schema:drop`, `knex migrate:rollback --all`, `alembic
//! downgrade base`, `dotnet ef database drop`. The database is whatever `DATABASE_URL` says,
//! which may be production. Risky because each one erases every table in one command.
//! Example: `npx prisma migrate reset --force`. Safer: a reviewed migration, or a reset only
//! against a local database the user named.

use blastdoor_core::Risk;

use super::{Finding, Rule, remote_target};
use crate::analysis::Walker;
use crate::command::Invocation;

pub(crate) static RULE: Rule = Rule {
    id: "db.orm-destructive",
    summary: "a framework or ORM command drops, resets or wipes a database (prisma migrate reset, rails db:drop, manage.py flush, artisan migrate:fresh)",
    alternative: "write a reviewed migration, or reset only a local database the user named explicitly",
};

pub(crate) fn check(invocation: &Invocation, walker: &mut Walker<'_, '_>) {
    let words: Vec<String> = invocation
        .args
        .iter()
        .map(|arg| arg.text.to_ascii_lowercase())
        .collect();
    let texts: Vec<&str> = words.iter().map(String::as_str).collect();
    let has = |needle: &str| texts.contains(&needle);
    let program = invocation.program();
    let hit = match program {
        "prisma" => {
            (has("migrate") && has("reset"))
                || (has("db") && has("push") && (has("--force-reset") || has("--accept-data-loss")))
        }
        "rails" | "rake" | "bin/rails" => texts.iter().any(|text| {
            matches!(
                *text,
                "db:drop"
                    | "db:reset"
                    | "db:purge"
                    | "db:schema:load"
                    | "db:migrate:reset"
                    | "db:drop:all"
                    | "db:truncate_all"
            )
        }),
        "artisan" => texts.iter().any(|text| {
            matches!(
                *text,
                "migrate:fresh" | "migrate:reset" | "db:wipe" | "migrate:refresh"
            )
        }),
        "mix" => texts
            .iter()
            .any(|text| matches!(*text, "ecto.drop" | "ecto.reset")),
        "sequelize" | "sequelize-cli" => has("db:drop") || has("db:migrate:undo:all"),
        "typeorm" => has("schema:drop"),
        "knex" => has("migrate:rollback") && has("--all"),
        "alembic" => has("downgrade") && has("base"),
        "dotnet" => has("ef") && has("database") && has("drop"),
        "drizzle-kit" => has("drop"),
        _ if texts.iter().any(|text| text.ends_with("manage.py")) => texts
            .iter()
            .any(|text| matches!(*text, "flush" | "reset_db" | "sqlflush")),
        "php" => {
            texts.iter().any(|text| text.ends_with("artisan"))
                && texts.iter().any(|text| {
                    matches!(
                        *text,
                        "migrate:fresh" | "migrate:reset" | "db:wipe" | "migrate:refresh"
                    )
                })
        }
        _ => false,
    };
    if !hit {
        return;
    }
    let target = remote_target("database", "DATABASE_URL", "database", invocation, None);
    walker.report(Finding::hold(
        &RULE,
        Risk::Destroy,
        format!(
            "`{}` drops or resets the database",
            texts.iter().take(4).copied().collect::<Vec<_>>().join(" ")
        ),
        vec![target],
    ));
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::check;

    #[test]
    fn cases() {
        check(
            "npx prisma migrate reset --force",
            "hold db.orm-destructive",
        );
        check(
            "npx prisma db push --accept-data-loss",
            "hold db.orm-destructive",
        );
        check("rails db:drop", "hold db.orm-destructive");
        check("bundle exec rake db:reset", "hold db.orm-destructive");
        check(
            "python manage.py flush --noinput",
            "hold db.orm-destructive",
        );
        check(
            "php artisan migrate:fresh --seed",
            "hold db.orm-destructive",
        );
        check("mix ecto.reset", "hold db.orm-destructive");
        check("npx prisma migrate dev", "allow");
        check("rails db:migrate", "allow");
        check("php artisan migrate", "allow");
    }
}
