/** Upper-cases a phrase and adds an exclamation mark. */
export declare function shout(text: string): string;
