/** A picker's choice: the value sent and what the operator reads. */
export interface Choice {
  value: string;
  text: string;
}

/** "Plan name (CODE)", or the code alone when the name says nothing more. */
export const namedChoice = (value: string, name: string): Choice => ({
  value,
  text: name && name !== value ? `${name} (${value})` : value,
});
