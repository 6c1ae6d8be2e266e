/**
 * The one parser of the database URLs this package's tools take (the command line's
 * `--database-url` / `DATABASE_URL`, and the example app's `DATABASE_URL`): which database it
 * names, for which MikroORM driver, and the URL with its password hidden, for messages.
 *
 * Accepted forms:
 * - `postgres://user:pass@host:5432/db` or `postgresql://…`: PostgreSQL;
 * - `mysql://user:pass@host:3306/db`: MySQL or MariaDB (either MikroORM driver speaks to both);
 * - `mariadb://user:pass@host:3306/db`: MariaDB (the same server protocol, `mysql://` for the driver);
 * - `sqlite:<path>` (`sqlite:./app.db`, `sqlite:/var/lib/app.db`) or a libSQL `file:` URL
 *   (`file:./app.db`, `file:///var/lib/app.db`, SQLite docs "URI Filenames"): a SQLite file.
 *
 * In-memory SQLite (`:memory:`) and remote libSQL URLs are refused: they name no file another
 * process can open (the scheduler's SQLite guarantees rest on a local file, see `assertLocalSqlite`).
 */
import { sqliteDatabaseFile } from './embedded.js'

export type DatabaseUrl =
  /** `url`: as given. */
  | { dialect: 'postgresql', url: string, shownUrl: string }
  /** `url`: a `mysql://` URL (a `mariadb://` one rewritten) for the drivers; `scheme`: the one given. */
  | { dialect: 'mysql', scheme: 'mysql' | 'mariadb', url: string, shownUrl: string }
  /** `file`: the database file's path, as given (relative to the working directory). */
  | { dialect: 'sqlite', file: string, shownUrl: string }

/** The accepted forms, for messages. */
export const DATABASE_URL_FORMS = 'postgres://user@host:5432/db (or postgresql://), mysql://user@host:3306/db, mariadb://user@host:3306/db, sqlite:<file> or file:<file>'

/** A database URL that is none of the accepted forms; the message says what was wrong and lists them. */
export class DatabaseUrlError extends Error {
  override name = 'DatabaseUrlError'
}

/**
 * Parses a database URL (forms in the module doc).
 * @throws DatabaseUrlError for an unknown scheme, text that is not a URL, a `sqlite:` without a
 *   path, or an in-memory or remote SQLite database; the message lists the accepted forms.
 */
export function parseDatabaseUrl (text: string): DatabaseUrl {
  if (text.startsWith('sqlite:') || text.startsWith('file:')) return sqliteUrl(text)
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    throw new DatabaseUrlError(`not a database URL: ${JSON.stringify(hidePassword(text))}; expected ${DATABASE_URL_FORMS}`)
  }
  if (parsed.password !== '') parsed.password = '***'
  const shownUrl = parsed.toString()
  switch (parsed.protocol) {
    case 'postgres:':
    case 'postgresql:':
      return { dialect: 'postgresql', url: text, shownUrl }
    case 'mysql:':
    case 'mariadb:':
      return { dialect: 'mysql', scheme: parsed.protocol === 'mysql:' ? 'mysql' : 'mariadb', url: text.replace(/^mariadb:/, 'mysql:'), shownUrl }
    default:
      throw new DatabaseUrlError(`unsupported database URL scheme ${parsed.protocol}//; expected ${DATABASE_URL_FORMS}`)
  }
}

function sqliteUrl (text: string): DatabaseUrl {
  const file = text.startsWith('sqlite:') ? text.slice('sqlite:'.length) : sqliteDatabaseFile(text)
  if (file === undefined || file === '' || file === ':memory:') {
    throw new DatabaseUrlError(`${JSON.stringify(text)} names no SQLite file (an in-memory database lives and dies with the process that opened it); give a path: sqlite:./app.db or file:./app.db`)
  }
  return { dialect: 'sqlite', file, shownUrl: text }
}

/** `text` with a `user:password@` password replaced by `***`. */
function hidePassword (text: string): string {
  return text.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}
