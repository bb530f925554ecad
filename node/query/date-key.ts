/**
 * Matching keys of VR DA and TM (PS3.4 C.2.2.2.1 and C.2.2.2.5): one date or time, or a range
 * `A-B`, `A-` or `-B`. Dates are YYYYMMDD and must exist in the calendar (month 01-12, the day
 * within its month, 29 February only in leap years); times are HH, HHMM, HHMMSS or
 * HHMMSS.F (1 to 6 digits), colons between the parts accepted as older writers send them, with
 * HH 00-23, MM 00-59 and SS 00-60 (a leap second). A range must not end before it starts
 * (PS3.4 asks for `<date1> <= <date2>`; a range across midnight is not one either). Each
 * refusal throws QueryKeyError saying which part was wrong.
 *
 * These rules are for keys only: stored values are compared as stored, never refused here.
 */
import { QueryKeyError } from './query-key-error.ts'

/** Times compare by their digits; "0930" means 09:30:00.000000. */
export function normalTime (t: string): string {
  const digits = t.replace(/:/g, '')
  const [whole = '', fraction = ''] = digits.split('.')
  return whole.padEnd(6, '0') + '.' + fraction.padEnd(6, '0')
}

function leap (year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']

function daysIn (year: number, month: number): number {
  return month === 2 ? (leap(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31
}

function checkDate (keyword: string, date: string): void {
  if (!/^\d{8}$/.test(date)) throw new QueryKeyError(`${keyword}: "${date}" is not a date; expected YYYYMMDD`)
  const year = Number(date.slice(0, 4))
  const month = Number(date.slice(4, 6))
  const day = Number(date.slice(6, 8))
  if (month < 1 || month > 12) throw new QueryKeyError(`${keyword}: month ${date.slice(4, 6)} in ${date} (months are 01-12)`)
  const days = daysIn(year, month)
  if (day < 1 || day > days) throw new QueryKeyError(`${keyword}: day ${date.slice(6, 8)} in ${date} (${MONTHS[month - 1]} ${year} has ${days} days)`)
}

const TIME = /^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?$/

function checkTime (keyword: string, time: string): void {
  const m = TIME.exec(time)
  if (m === null) throw new QueryKeyError(`${keyword}: "${time}" is not a time; expected HH, HHMM, HHMMSS or HHMMSS.FFFFFF`)
  const [, hh, mm, ss] = m
  if (Number(hh) > 23) throw new QueryKeyError(`${keyword}: hour ${hh} in ${time} (hours are 00-23)`)
  if (mm !== undefined && Number(mm) > 59) throw new QueryKeyError(`${keyword}: minute ${mm} in ${time} (minutes are 00-59)`)
  if (ss !== undefined && Number(ss) > 60) throw new QueryKeyError(`${keyword}: second ${ss} in ${time} (seconds are 00-60)`)
}

/** Checks a DA or TM matching key (one value, or a range); throws QueryKeyError naming the fault. */
export function checkDateKey (keyword: string, vr: 'DA' | 'TM', key: string): void {
  const what = vr === 'DA' ? 'date' : 'time'
  if (key.includes('\\')) throw new QueryKeyError(`${keyword}: a list of ${what}s; give one ${what} or one range`)
  const parts = key.split('-')
  if (parts.length > 2) throw new QueryKeyError(`${keyword}: "${key}" holds more than one "-"; a range is ${vr === 'DA' ? 'YYYYMMDD-YYYYMMDD' : 'HHMMSS-HHMMSS'}`)
  const [low = '', high = ''] = parts
  if (low === '' && high === '') throw new QueryKeyError(`${keyword}: a range needs a start, an end or both, got "-"`)
  const check = vr === 'DA' ? checkDate : checkTime
  if (low !== '') check(keyword, low)
  if (high !== '') check(keyword, high)
  if (low !== '' && high !== '') {
    const norm = vr === 'DA' ? (s: string): string => s : normalTime
    if (norm(low) > norm(high)) {
      throw new QueryKeyError(`${keyword}: reversed range ${key} (start after end)`)
    }
  }
}
