// mac_pe: int8 multiply-accumulate processing element of the systolic array.
//
// mode 0 = output stationary (OS): operands a (from the left) and b (from the top) are registered
//          and forwarded right/down; acc accumulates a*b when both are valid; with drain, acc takes
//          psum_in (the accumulator of the PE above) and the operand registers hold.
// mode 1 = weight stationary (WS; IS is WS with the operand roles swapped): with load, b takes b_in
//          (the stationary block shifts down); otherwise a is registered and forwarded right and
//          acc = psum_in + a*b (the partial sum flowing down).
// clr (with en): the PE's own registers read as 0 on this edge (the first beat of a fold).
// en = 0 holds every register. acc wraps around at ACC_W bits (two's complement).
// Python model: archsim/hw/systolic/pe.py (MacPE).
`default_nettype none

module mac_pe #(
    parameter integer ACC_W  = 32,  // accumulator / partial-sum width, >= 17
    parameter integer BROKEN = 0    // 1: a is multiplied as unsigned (a deliberate bug for the bench)
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    clr,
    input  wire                    mode,
    input  wire                    load,
    input  wire                    drain,
    input  wire signed [7:0]       a_in,
    input  wire                    a_v_in,
    input  wire                    a_last_in,
    input  wire signed [7:0]       b_in,
    input  wire                    b_v_in,
    input  wire signed [ACC_W-1:0] psum_in,
    output reg  signed [7:0]       a,
    output reg                     a_v,
    output reg                     a_last,
    output reg  signed [7:0]       b,
    output reg                     b_v,
    output reg  signed [ACC_W-1:0] acc
);
    // the registers as this edge sees them
    wire signed [7:0]       a_q      = clr ? 8'sd0 : a;
    wire                    a_v_q    = clr ? 1'b0 : a_v;
    wire                    a_last_q = clr ? 1'b0 : a_last;
    wire signed [7:0]       b_q      = clr ? 8'sd0 : b;
    wire                    b_v_q    = clr ? 1'b0 : b_v;
    wire signed [ACC_W-1:0] acc_q    = clr ? {ACC_W{1'b0}} : acc;

    // the multiplier: OS multiplies the two inputs, WS the input by the stationary weight
    wire signed [7:0]  mul_b = mode ? b_q : b_in;
    wire signed [15:0] prod;
    generate
        if (BROKEN == 1) begin : g_broken
            assign prod = $signed({8'd0, a_in}) * mul_b;
        end else begin : g_ok
            assign prod = a_in * mul_b;
        end
    endgenerate
    wire                    fire   = mode ? a_v_in : (a_v_in & b_v_in);
    wire signed [ACC_W-1:0] prod_x = fire ? {{(ACC_W-16){prod[15]}}, prod} : {ACC_W{1'b0}};

    always @(posedge clk) begin
        if (rst) begin
            a <= 8'sd0; a_v <= 1'b0; a_last <= 1'b0; b <= 8'sd0; b_v <= 1'b0; acc <= {ACC_W{1'b0}};
        end else if (en) begin
            if (!mode && drain) begin            // OS drain: accumulators shift down
                a <= a_q; a_v <= a_v_q; a_last <= a_last_q; b <= b_q; b_v <= b_v_q;
                acc <= psum_in;
            end else if (!mode) begin            // OS stream
                a <= a_in; a_v <= a_v_in; a_last <= a_last_in; b <= b_in; b_v <= b_v_in;
                acc <= acc_q + prod_x;
            end else if (load) begin             // WS: stationary block shifts down
                a <= a_q; a_v <= a_v_q; a_last <= a_last_q; b <= b_in; b_v <= b_v_q;
                acc <= acc_q;
            end else begin                       // WS stream: partial sums flow down
                a <= a_in; a_v <= a_v_in; a_last <= a_last_in; b <= b_q; b_v <= b_v_q;
                acc <= psum_in + prod_x;
            end
        end
    end
endmodule

`default_nettype wire
