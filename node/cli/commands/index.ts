/** Every `peerpacs` command, in the order `peerpacs --help` lists them. */
import type { CommandSpec } from '../command.ts'
import { audit } from './audit.ts'
import { backup } from './backup.ts'
import { restore } from './restore.ts'
import { exportCommand } from './export.ts'
import { fsckCommand } from './fsck.ts'
import { importCommand } from './import.ts'
import { init } from './init.ts'
import { invite } from './invite.ts'
import { logCommand } from './log.ts'
import { members } from './members.ts'
import { start } from './start.ts'
import { status } from './status.ts'
import { studies } from './studies.ts'
import { token } from './token.ts'
import { users } from './users.ts'

export const COMMANDS: readonly CommandSpec[] = [init, start, importCommand, studies, exportCommand, status, members, users, invite, backup, restore, audit, fsckCommand, logCommand, token]
