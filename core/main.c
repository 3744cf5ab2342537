/* sluiced: placeholder until the broker core lands. */
int main(void) { return 0; }
