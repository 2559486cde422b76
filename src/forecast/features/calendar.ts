/**
 * Calendar features of a grid time, encoded so that a model can use them: cyclic quantities (hour
 * of day, day of week, day of month, month) as a sine/cosine pair, so that 23:59 is next to 00:00,
 * and business hours as 0/1. All in UTC: a workload's own time zone is a shift of the hour, which
 * the model learns from the data.
 */

const msPerHour = 3_600_000;
const msPerDay = 86_400_000;

/** The calendar of one instant, every cyclic quantity as a fraction of its cycle in [0, 1). */
export interface CalendarPosition {
  /** Time of day as a fraction of the day. */
  readonly dayFraction: number;
  /** Day of week as a fraction of the week, Monday 00:00 = 0. */
  readonly weekFraction: number;
  /** Day of month as a fraction of the month (day 1 = 0). */
  readonly monthFraction: number;
  /** Month of year as a fraction of the year (January = 0). */
  readonly yearFraction: number;
  /** 1 on Monday to Friday, 09:00 to 17:00 UTC; else 0. */
  readonly businessHours: number;
}

/** The calendar position of a unix time in milliseconds. */
export function calendarPosition(timestampMs: number): CalendarPosition {
  const dayFraction = (((timestampMs % msPerDay) + msPerDay) % msPerDay) / msPerDay;
  // 1970-01-01 was a Thursday: shift by 3 days so that Monday starts the week.
  const days = Math.floor(timestampMs / msPerDay);
  const weekday = (((days + 3) % 7) + 7) % 7;
  const weekFraction = (weekday + dayFraction) / 7;
  const { year, month, day } = civilFromDays(days);
  const monthFraction = (day - 1 + dayFraction) / daysInMonth(year, month);
  const yearFraction = (month - 1) / 12;
  const hour = Math.floor(dayFraction * 24 + 1e-9);
  const businessHours = weekday < 5 && hour >= 9 && hour < 17 ? 1 : 0;
  return { dayFraction, weekFraction, monthFraction, yearFraction, businessHours };
}

/**
 * The proleptic Gregorian date of a day count since 1970-01-01 (Hinnant's civil_from_days), so that
 * calendar features need no Date object (forecast code never touches the clock or Date).
 */
export function civilFromDays(days: number): { readonly year: number; readonly month: number; readonly day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const dayOfEra = z - era * 146097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** sin(2π·fraction), cos(2π·fraction): a cyclic quantity as a point on the unit circle. */
export function cyclic(fraction: number): readonly [sin: number, cos: number] {
  const angle = 2 * Math.PI * fraction;
  return [Math.sin(angle), Math.cos(angle)];
}

/** Whole hours in milliseconds (for readers of the feature code). */
export const hourMs = msPerHour;
