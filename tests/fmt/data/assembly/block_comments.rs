fn a() {}

/*
 * x
  y
 */
fn b() {}
/*
		* tabbed star
	*/
fn c() {}
/*   trailing   
 *  a  
 */
fn d() {}
/* bare

      deeper
    less */
fn e() {}
/*
*col0
  * two
*/
fn f() {}
/*
 *	Machine types known by all.
 */

/* Returns the final index for a value in a single vector that represents a fixed
   2d grid */
fn g() {}
// x
/* after a line
     comment */
fn h() {}
/* x /* y */ w
  z */
fn nested() {}
/*
  // TODO
    #define A  /* f */   \
      v

*/
fn nested_code() {}
