"""Common given names across languages: what marks a capitalised pair of words in an answer as a
person's name ("Naomi Quinn"), where no observation names that person."""

GIVEN_NAMES: frozenset[str] = frozenset("""
    Aaliyah Aarav Aarti Abdul Abdullah Abebe Abel Abigail Abraham Ada Adaeze Adam Adebayo Adele Adeline Aditi
    Aditya Adrian Adriana Agnes Ahmad Ahmed Aidan Aiden Aiko Ailsa Aisha Akira Akosua Alan Alana Alastair
    Albert Alberto Alejandra Alejandro Aleksandra Alessandra Alessandro Alex Alexa Alexander Alexandra Alexei
    Alexis Alfie Alfred Ali Alice Alicia Alina Alison Alistair Allison Alma Amani Amara Amelia Amina Amir Amit
    Amos Amy Ana Anand Ananya Anders Andre Andrea Andreas Andrew Andrzej Angela Angelo Anika Anil Anita Anja
    Ann Anna Anne Annika Anthony Anton Antonio Anya Arjun Arnav Arthur Arturo Asha Ashley Astrid Aurora Ava
    Axel Ayesha Aziz Barbara Basil Beatrice Beatriz Bella Ben Benedict Benjamin Bernadette Bernard Beth Bethany
    Betty Bianca Bilal Billy Blake Bo Bogdan Boris Brad Bradley Brandon Brenda Brendan Brian Bridget Brittany
    Bruce Bruno Caleb Callum Camila Camille Carl Carla Carlos Carmen Carol Caroline Carolyn Casey Catalina
    Catherine Cecilia Celine Chantal Charles Charlie Charlotte Chen Cheryl Chiara Chidi Chinedu Chloe Chris
    Christian Christina Christine Christopher Claire Clara Claudia Colin Connor Conor Constance Craig Cristina
    Cynthia Dafne Dale Damian Dan Dana Daniel Daniela Daniele Danielle Daria Darius David Dean Deborah Debra
    Declan Deepak Denise Dennis Derek Devon Diana Diane Diego Dimitri Divya Dmitri Dolores Dominic Donald Donna
    Dora Doris Dorothy Douglas Duncan Dylan Ebony Eddie Edgar Edith Edward Edwin Eileen Eleanor Elena Eli Elias
    Elif Elijah Elin Elisa Elise Eliza Elizabeth Ella Ellen Elliot Eloise Elsa Emeka Emil Emilia Emily Emma
    Emmanuel Enrique Eric Erica Erik Erin Ernesto Esther Ethan Eugene Eva Evan Evelyn Ewa Ezra Fabian Farah
    Farid Fatima Fatma Federico Felicity Felipe Felix Fernando Fiona Florence Frances Francesca Francis
    Francisco Frank Freya Frida Gabriel Gabriela Gareth Gary Gavin Gemma Georg George Georgia Gerald Gerard
    Gianna Gideon Gillian Gina Giovanni Giulia Giuseppe Gloria Gordon Grace Graham Greg Gregory Greta Guillermo
    Gunnar Gustavo Hamza Hana Hannah Hans Harold Harper Harriet Harry Harvey Hassan Hazel Heather Hector Heidi
    Helen Helena Henrik Henry Hiroshi Holly Hugo Hussein Ian Ibrahim Ida Ifeoma Igor Ikechukwu Ilse Imani
    Imogen Ines Ingrid Irene Irina Iris Isaac Isabel Isabella Isabelle Isaiah Ismail Ivan Ivy Jack Jackson
    Jacob Jacqueline Jade Jaime Jake Jamal James Jan Jana Jane Janet Janice Jasmine Jason Javier Jay Jean
    Jeffrey Jennifer Jeremy Jesse Jessica Jiho Jin Joan Joanna Joao Jodie Joel Johan Johanna John Jonas
    Jonathan Jordan Jorge Jose Josef Joseph Josephine Joshua Joy Joyce Juan Judith Julia Julian Juliana Julie
    Julien Juliet Jun Justin Kai Kamal Kara Karen Karim Karin Karl Kate Katharina Katherine Kathleen Katie
    Katya Kavya Kayla Keiko Keith Kelly Kemal Kenji Kenneth Kevin Khalid Kim Kimberly Kiran Kirsten Klaus Kofi
    Kojo Krishna Kristen Kwabena Kwame Kyle Lars Laura Lauren Laurence Lawrence Layla Leah Lee Leila Lena Leo
    Leon Leona Leonardo Leslie Liam Liang Lila Lily Lin Lina Linda Lindsay Lisa Liv Lorenzo Louis Louise Luca
    Lucas Lucia Lucy Luis Luisa Luka Lukas Luke Lydia Mabel Madeleine Madison Magnus Mahmoud Maja Malik Mandla
    Manuel Mara Marc Marco Marcus Margaret Maria Mariam Mariana Marie Marina Mario Marisol Marjorie Mark Marta
    Martha Martin Mary Mateo Matilda Matteo Matthew Maureen Max Maxine Maya Megan Mehmet Mei Melanie Melissa
    Mia Michael Michelle Miguel Mikael Mila Milan Milo Mina Mohamed Mohammed Molly Monica Morgan Muhammad Nadia
    Nadine Nancy Naomi Natalia Natalie Nathan Nathaniel Neha Neil Nia Niamh Nicholas Nicola Nicolas Nicole
    Nikhil Nikita Nikolai Nils Nina Noah Noor Nora Norma Oleg Olga Oliver Olivia Omar Oscar Owen Pablo Pamela
    Paola Patricia Patrick Paul Paula Pauline Pedro Penelope Peter Petra Philip Philippe Phoebe Pierre Pietro
    Piotr Pooja Priya Priyanka Rachel Rafael Rahul Raj Rajesh Ralph Ramon Rana Raquel Ravi Ray Raymond Rebecca
    Reza Ricardo Richard Rita Robert Roberta Roberto Robin Rohan Roisin Roman Ronald Rosa Rose Rosie Roy Ruby
    Rui Russell Ruth Ryan Sabrina Sadie Sally Salma Sam Samantha Samir Samuel Sandra Sanjay Santiago Sara Sarah
    Sasha Scott Sean Sebastian Selin Serena Sergei Sergio Seth Shanice Shannon Sharon Sheila Shirley Shreya
    Simon Simone Sinead Siobhan Sofia Sofie Sonia Sophia Sophie Stanley Stefan Stella Stephanie Stephen Steven
    Stuart Sunil Susan Suzanne Sven Tamara Tanya Tara Teresa Terry Thabo Theo Theodore Theresa Thomas Tiago
    Tiffany Tim Timothy Tobias Tom Tomas Tomasz Tony Tracy Trevor Uma Ursula Valentina Valeria Vanessa Vera
    Veronica Victor Victoria Vijay Vikram Vincent Violet Virginia Vivian Vladimir Walter Wanjiru Wayne Wei
    Wendy Wiktoria Will William Wojciech Xavier Xin Yara Yasmin Yiannis Yuki Yusuf Yvonne Zachary Zainab Zara
    Zoe Zofia Zoltan
""".split())
